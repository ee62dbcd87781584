"""Email addresses as every app compares them."""


def normalize_email(email: str) -> str:
    """One spelling per address, so lookups and the unique constraint agree."""
    return email.strip().lower()
