"""The dashboard's pages: one module each, registered with Dash's page registry when the app is built."""
