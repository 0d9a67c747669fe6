"""``ashyq-collector add-user`` and ``remove-user``: fleet page accounts.

    ashyq-collector add-user aigerim --role technician          # asks the password twice
    echo "$PW" | ashyq-collector add-user cafe-boss --role manager --venue cafe-12 --password-stdin

The password never goes on the command line (other users see it in ps);
it is stored only as an scrypt hash. A manager sees only the venues given.
"""
from __future__ import annotations

import getpass
import re
import sys

from ..storage import open_storage
from .passwords import WeakPassword, check_password, hash_password
from .views import ROLES

USERNAME = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")


def _password(args) -> str:
    if args.password_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.username}: ")
    if getpass.getpass("again: ") != first:
        raise WeakPassword("the two passwords differ")
    return first


def add_user(args) -> int:
    if not USERNAME.match(args.username):
        print("collector: a user name is 1-64 of A-Z a-z 0-9 _ . @ -", file=sys.stderr)
        return 2
    if args.role == "manager" and not args.venue:
        print("collector: a manager needs at least one --venue", file=sys.stderr)
        return 2
    try:
        password = check_password(_password(args))
    except WeakPassword as exc:
        print(f"collector: {exc}", file=sys.stderr)
        return 2
    with open_storage(args.db) as storage:
        storage.put_user(args.username, hash_password(password), args.role,
                         sorted(set(args.venue)) if args.role == "manager" else [])
    scope = f" for {', '.join(sorted(set(args.venue)))}" if args.role == "manager" else ""
    print(f"user {args.username}: {args.role}{scope} ({ROLES[args.role]})")
    return 0


def remove_user(args) -> int:
    with open_storage(args.db) as storage:
        if not storage.delete_user(args.username):
            print(f"collector: no user {args.username}", file=sys.stderr)
            return 1
    print(f"user {args.username} removed")
    return 0
