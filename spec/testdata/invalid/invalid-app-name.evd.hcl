app "My Shop" {} # ERROR: Invalid app name
