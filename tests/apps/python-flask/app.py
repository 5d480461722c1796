"""A small legacy Flask service: a greeting and a word counter."""
import sys

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello from a legacy flask app\n"


@app.post("/count")
def count():
    text = request.get_data(as_text=True)
    return jsonify(words=len(text.split()), chars=len(text))


def self_test():
    client = app.test_client()
    greeting = client.get("/")
    counted = client.post("/count", data="the quick brown fox")
    print(f"flask-app: GET / -> {greeting.status_code} {greeting.get_data(as_text=True).strip()}")
    print(f"flask-app: POST /count -> {counted.status_code} {counted.get_json()}")


if __name__ == "__main__":
    if "--self-test" in sys.argv:
        self_test()
    else:
        app.run(host="0.0.0.0", port=8000)
