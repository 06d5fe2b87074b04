"""Final answers in sentences: which fields a result's answer says, how it starts, how it is worded."""
