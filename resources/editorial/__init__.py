"""The editorial back office: workflow and roles, review dates, admin helpers, preview, images,
readability, spreadsheet and portable import/export, link checking (see docs/editors.md).
"""
