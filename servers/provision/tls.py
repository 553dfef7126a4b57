"""Checks on an uploaded HTTPS certificate and key before they are stored (encrypted)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

MAX_PEM_BYTES = 64 * 1024


def check_tls_pair(certificate: str, private_key: str) -> str:
    """The certificate's subject if both parse as PEM and belong together; else ValueError."""
    if not certificate.strip() or not private_key.strip():
        raise ValueError("Upload both the certificate and its private key (PEM).")
    if len(certificate) > MAX_PEM_BYTES or len(private_key) > MAX_PEM_BYTES:
        raise ValueError(f"A certificate or key is at most {MAX_PEM_BYTES // 1024} KB of PEM.")
    try:
        chain = x509.load_pem_x509_certificates(certificate.encode())
    except ValueError:
        raise ValueError("The certificate is not a PEM certificate.") from None
    try:
        key = serialization.load_pem_private_key(private_key.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("The private key is not an unencrypted PEM private key.") from None
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.PEM
    if chain[0].public_key().public_bytes(encoding, public) != key.public_key().public_bytes(
        encoding, public
    ):
        raise ValueError("The private key does not belong to the certificate.")
    return chain[0].subject.rfc4514_string()
