"""How requests, arguments and values are worded and read: templates, tool names, spoken values."""
