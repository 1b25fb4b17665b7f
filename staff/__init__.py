"""Staff: logins and passwords, API tokens, sessions and login throttling (domain, no Flask).

The HTTP side (cookies, Bearer headers, CSRF, the login page) is in ``webmap``; the tables are in
the one schema history under ``layers/migrations``.
"""
