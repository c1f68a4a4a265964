"""Proof of cover (参保证明): PDFs with a QR code, and their public verification."""
