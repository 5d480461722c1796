module example.com/legacy/inventory

go 1.19
