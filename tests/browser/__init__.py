"""Browser tests of the dashboard (Playwright and Debian's Chromium)."""
