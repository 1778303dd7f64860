# python_secret.py — Debian's azure.identity ClientSecretCredential (1.13.0b2) against castor.
# Run with /usr/bin/python3 and REQUESTS_CA_BUNDLE; argv: authority tenant client secret scope.
# Prints the access token.
import sys
from azure.identity import ClientSecretCredential

authority, tenant, client, secret, scope = sys.argv[1:6]
# The Debian build is the 1.13 beta: its keyword is instance_discovery (GA renamed it).
cred = ClientSecretCredential(tenant, client, secret, authority=authority, instance_discovery=False)
print(cred.get_token(scope).token)
