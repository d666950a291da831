"""IRSF and Wangiri hotlists: test numbers and ranges, their versions, and the matcher that checks numbers
against them."""
