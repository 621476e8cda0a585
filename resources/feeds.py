"""RSS and Atom feeds of newly published resources."""
