FROM a
RUN echo a \
\
  b
\
RUN echo c
   	
  # indented comment
RUN echo d \   	
    e
