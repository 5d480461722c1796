FROM a
RUN <<EOF
never closed
