"""HTTP plumbing shared by every blueprint: problem JSON, parameters, caching headers, CORS,
security headers, staff authentication, uploads. No routes live here."""
