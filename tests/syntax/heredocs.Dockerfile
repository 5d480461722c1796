FROM alpine
RUN <<EOF
echo one
EOF
RUN <<-EOT bash
	echo tabs
	EOT
RUN python3 <<PY
print("hi")
PY
COPY <<EOF /etc/a.conf
x=1
EOF
COPY <<"A" /a <<'B' /b
$HOME
A
$PATH
B
RUN 3<<FD cat /dev/fd/3
fd three
FD
RUN cat <<EOF >/out && \
    echo after
line
EOF
