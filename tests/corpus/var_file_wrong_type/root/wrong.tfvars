capacity = "lots"
