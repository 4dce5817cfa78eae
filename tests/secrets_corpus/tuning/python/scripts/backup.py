#!/usr/bin/env python3
"""Nightly backup of the uploads bucket to the cold-storage account."""

import hashlib
import boto3
import paramiko

s3 = boto3.client(
    "s3",
    aws_access_key_id="⟦aws-access-key-id⟧",
    aws_secret_access_key="⟦aws-secret-access-key⟧",
)

def checksum(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()

def push_to_cold_storage(local_path):
    ssh = paramiko.SSHClient()
    ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    ssh.connect("cold.example.net", username="backup", password="⟦password⟧")
    sftp = ssh.open_sftp()
    sftp.put(local_path, "/srv/backups/" + local_path)

EXPECTED_SHA256 = "⟦~e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855⟧"
DATABRICKS_TOKEN = "⟦databricks-token⟧"
