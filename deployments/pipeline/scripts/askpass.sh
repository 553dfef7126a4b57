#!/bin/sh
# GIT_ASKPASS for an HTTPS token (deployments/pipeline/git.py credential_files): git asks for
# a username, then a password; the token, in the 0600 file beside this one, answers the password.
case "$1" in
  Username*) echo x-access-token ;;
  *) cat "$(dirname "$0")/token" ;;
esac
