"""The VFU domain shared by the services: identifiers, reference data, terms and rules."""
