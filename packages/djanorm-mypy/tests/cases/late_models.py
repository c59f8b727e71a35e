"""Imports case_reverse, so mypy checks case_reverse first: there Magazine is known only as source text."""

from __future__ import annotations

import case_reverse  # noqa: F401
from models_app import Publisher

import dorm


class Magazine(dorm.Model):
    title = dorm.CharField(max_length=10)
    publisher = dorm.ForeignKey(Publisher, on_delete=dorm.CASCADE)
