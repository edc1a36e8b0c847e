"""Google Workspace for Education: Gmail (``google_mail``) and Drive (``google_drive``).

Both read through Google's own client libraries (google-api-python-client, google-auth) with a
service account and domain-wide delegation; see docs/google.md for the scopes and the set-up.
"""
