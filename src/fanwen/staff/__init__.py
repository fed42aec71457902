"""The desk for the people who run the site: import and publish, orders, tickets, figures."""
