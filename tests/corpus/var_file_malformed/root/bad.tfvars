name = = 1
