ARG BASE=debian:bookworm
ARG TAG
from ${BASE} as Build
onbuild run echo hi
ONBUILD COPY --from=build /a /b
cmd ["a", "b\"c", "\u00e9"]
CMD [ "not json
ENTRYPOINT ["a", "b"] x
HEALTHCHECK --interval=5s CMD ["curl", "-f", "http://x"]
HEALTHCHECK NONE
EXPOSE 80/tcp 443
ENV A=1 B="two words" C=three\ words
ENV LEGACY value with spaces
LABEL a=b "c d"=e
STOPSIGNAL SIGTERM
VOLUME ["/data"]
VOLUME /a /b
USER 1000:1000
WORKDIR /app
ADD --chown=1:1 --chmod=755 https://example.com/x /x
COPY --link --parents --exclude=*.md . /app
RUN --mount=type=cache,target=/root/.cache,id=pip --mount=type=secret,id=tok --network=none pip install x
RUN --mount="type=bind,source=/a b" echo quoted flag
RUN -- echo double dash
RUN echo trailing \\
RUN echo escaped \\\
  next
RUN echo end \