app "bad" {}

app "again" {} # ERROR: Duplicate app block
