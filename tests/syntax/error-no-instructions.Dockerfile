
# nothing

