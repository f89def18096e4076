#!/usr/bin/python3
# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
#
# Writes original-v0.db and original-v0.salt next to this script: a database exactly as the
# original Python server (SQLAlchemy on SQLite) leaves it, schema version 0 in osc-store.c's
# terms, for the migration tests. Run with /usr/bin/python3 (needs only the sqlite3 module;
# the `cryptography` module, when present, is used to check the tokens).
#
# Rows:
#   id 1  ('database', 'production', 'config'): the API.md §6.5 user-data token; with the
#         salt below and the user key "my-secret-key-123" it decrypts to
#         {"host": "localhost", "port": 5432}
#   id 2  ('cache', 'production', NULL category): decrypts with the same key and salt to
#         ["redis://cache:6379", 2.5, {"ttl": 300}] (ts 1700000100, iv 10 11 .. 1f)
#   id 5  (unicode key, environment and category): its token is NOT a Fernet token and
#         decrypts with no key; it only exercises text handling
# The ids have a gap (3 and 4 were deleted) and 5 is the highest, so a server that reuses
# ids would hand out 5 again after deleting it.

import os
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DB_PATH = os.path.join(HERE, "original-v0.db")
SALT_PATH = os.path.join(HERE, "original-v0.salt")

# API.md §8.1, verbatim
DDL = [
    """CREATE TABLE configurations (
    id INTEGER NOT NULL,
    "key" VARCHAR(255) NOT NULL,
    encrypted_value TEXT NOT NULL,
    category VARCHAR(100),
    environment VARCHAR(100) NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT uix_key_environment UNIQUE ("key", environment)
)""",
    "CREATE INDEX ix_configurations_category ON configurations (category)",
    'CREATE INDEX ix_configurations_key ON configurations ("key")',
    "CREATE INDEX ix_configurations_environment ON configurations (environment)",
]

SALT = bytes(range(64))
USER_KEY = "my-secret-key-123"

ROWS = [
    (
        1,
        "database",
        "gAAAAABlU_EAAAECAwQFBgcICQoLDA0OD-LKzUUXMcM7ZLrQybyHGsJFdetukhbu3s6n23fTU4rjBBgrQ5o3rXcJlm5PDaodBbDYAQ4eYfpJ1fe7u79vyxjE4HdyJKv7HLwSAiXPBdmW",
        "config",
        "production",
        "2023-11-14 22:00:00.123456",
        "2023-11-14 22:00:00.123456",
    ),
    (
        2,
        "cache",
        "gAAAAABlU_FkEBESExQVFhcYGRobHB0eH7QRQN-x8sRGZw0rIjEkfEN7sa51rGSIPMEk_uMr0DpQz3HYjucuxcSad2vGOGtUqhx43GKaHqVgIoAQ1q8SZwPqyCf-XJMeQD-xkO7Kt7_j",
        None,
        "production",
        "2023-11-14 22:01:40.000001",
        "2023-11-15 08:30:00.500000",
    ),
    (
        5,
        "cl\u00e9-\U0001f600",
        "not-a-fernet-token:unicode-row",
        "\u00fcn\u00efcode",
        "pr\u00f6d\u00fcction",
        "2024-01-02 03:04:05.000000",
        "2024-01-02 03:04:05.000000",
    ),
]

EXPECTED_PLAINTEXT = {
    1: b'{"host": "localhost", "port": 5432}',
    2: b'["redis://cache:6379", 2.5, {"ttl": 300}]',
}


def check_tokens():
    try:
        import base64
        import hashlib

        from cryptography.fernet import Fernet
    except ImportError:
        print("cryptography not available, tokens not checked", file=sys.stderr)
        return
    dk = hashlib.pbkdf2_hmac("sha256", USER_KEY.encode(), SALT, 480000, 32)
    fernet = Fernet(base64.urlsafe_b64encode(dk))
    for row in ROWS:
        if row[0] in EXPECTED_PLAINTEXT:
            assert fernet.decrypt(row[2].encode()) == EXPECTED_PLAINTEXT[row[0]], row[0]


def main():
    check_tokens()
    for path in (DB_PATH, DB_PATH + "-journal", DB_PATH + "-wal", DB_PATH + "-shm"):
        if os.path.exists(path):
            os.unlink(path)
    db = sqlite3.connect(DB_PATH)
    with db:
        for sql in DDL:
            db.execute(sql)
        # insert ids 1..5 as the original would (it lets SQLite pick max(rowid)+1), then
        # delete 3 and 4 to leave the gap
        for i in range(1, 6):
            row = next((r for r in ROWS if r[0] == i), None)
            if row is None:
                row = (i, "deleted-%d" % i, "x", None, "production",
                       "2023-11-14 22:02:00.000000", "2023-11-14 22:02:00.000000")
            db.execute(
                'INSERT INTO configurations ("key", encrypted_value, category, environment, '
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                row[1:],
            )
        db.execute("DELETE FROM configurations WHERE id IN (3, 4)")
    db.execute("VACUUM")
    db.close()
    with open(SALT_PATH, "wb") as f:
        f.write(SALT)
    print("wrote", DB_PATH, "and", SALT_PATH)


if __name__ == "__main__":
    main()
