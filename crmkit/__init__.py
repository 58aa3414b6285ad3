"""crmkit: a toolkit for CRM implementation consultants.

The package is a library first; the ``crmkit`` command is its first client.
"""

__version__ = "0.1.0"
