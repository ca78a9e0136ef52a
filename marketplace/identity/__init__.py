"""Identity: the bank's signing keys and JWKS, staff tokens (JWT, EdDSA), password hashing.

No business rules and no database here: who may log in and what a role may do live in the
services; this package only proves who signed what, and when.
"""

from marketplace.identity.jwks import jwks_endpoint
from marketplace.identity.keys import ALGORITHM, KeyRing, SigningKey, jwk_thumbprint
from marketplace.identity.passwords import PasswordHasher, check_password_strength
from marketplace.identity.statements import StatementSigner
from marketplace.identity.tokens import Claims, InvalidTokenError, TokenService

__all__ = [
    "ALGORITHM", "Claims", "InvalidTokenError", "KeyRing", "PasswordHasher", "SigningKey", "StatementSigner",
    "TokenService", "check_password_strength", "jwk_thumbprint", "jwks_endpoint",
]
