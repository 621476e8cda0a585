"""For clinics: the link builder, QR codes and printable handouts."""
