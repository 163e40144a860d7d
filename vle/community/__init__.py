"""The network: directory, forums, announcements, events and agreements, search."""
