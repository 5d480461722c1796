# syntax=docker/dockerfile:1
# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command"]
RUN Write-Host `
    hello `
    # a comment inside
    world
COPY C:\src C:\dst
