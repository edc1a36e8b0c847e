"""Servers and fakes shared by more than one test package: PostgreSQL, the fake Microsoft
Graph (with its certificates) and the fake Exchange (EWS). Samba, Dovecot and SMTP live with
the only suite that starts them."""
