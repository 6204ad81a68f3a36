"""Identity: skygate's own OIDC issuer (signing keys, discovery, JWKS, assertions) and the Entra token cache."""
