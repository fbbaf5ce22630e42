"""Obligations (待办/时限): deadlines created by plugin deadline rules from domain events."""
