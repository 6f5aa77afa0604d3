"""Domain state: plain objects that enforce the API's rules. Nothing here knows about HTTP."""
