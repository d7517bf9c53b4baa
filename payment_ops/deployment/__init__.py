"""What deploy.py and delete.py share: AWS clients, names, stack set operations, retained data."""
