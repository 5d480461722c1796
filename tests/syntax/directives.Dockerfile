#syntax = docker/dockerfile:1.4
#  check=skip=all
# escape=\

# escape=`
FROM a
RUN echo x `
