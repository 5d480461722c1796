FROM debian
RUN apt-get update \

  # comment
  && apt-get install -y curl
CMD ["bash"]