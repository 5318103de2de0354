"""Hikeshi (火消し): crisis contact-center platform for Japanese contact centers."""

__version__ = "0.1.0"
