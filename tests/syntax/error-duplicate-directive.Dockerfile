# escape=`
# escape=`
FROM a
