"""
Creates the database of a DOT run: migrations, then the users and applications read as JSON from
stdin (so no secret is on a command line):

  {"users": [{"username": ..., "password": ...}],
   "applications": [{"client_id": ..., "client_secret": ... (confidential only), "client_type":
                     "confidential"|"public", "grant_type": "authorization-code"|"client-credentials",
                     "redirect_uris": [...]}]}

DOT stores one grant type per application (Application.authorization_grant_type); the refresh_token
grant is open to authorization-code applications. Prints one line, "provisioned N users, M applications".
Run with /usr/bin/python3, DJANGO_SETTINGS_MODULE=dotserver.settings and the launcher's DOT_* env.
"""
import json
import sys

import django


def main():
    spec = json.load(sys.stdin)
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from oauth2_provider.models import get_application_model

    call_command("migrate", verbosity=0, interactive=False)
    User = get_user_model()
    Application = get_application_model()
    for u in spec["users"]:
        User.objects.create_user(username=u["username"], password=u["password"])
    for a in spec["applications"]:
        confidential = a["client_type"] == "confidential"
        Application.objects.create(
            name=a["client_id"],
            client_id=a["client_id"],
            # A public client has no secret (DOT would otherwise generate one it never checks).
            client_secret=a["client_secret"] if confidential else "",
            client_type=a["client_type"],
            authorization_grant_type=a["grant_type"],
            redirect_uris=" ".join(a["redirect_uris"]),
            # ID tokens signed with the run's RSA key (OIDC_RSA_PRIVATE_KEY), verifiable through the JWKS.
            algorithm="RS256",
        )
    print(f"provisioned {len(spec['users'])} users, {len(spec['applications'])} applications")


if __name__ == "__main__":
    main()
