"""A small legacy Flask service managed with Poetry: a page from a template and a stylesheet."""
import sys

from flask import Flask, render_template

app = Flask(__name__)


@app.get("/")
def index():
    return render_template("index.html", title="poetry app", items=["alpha", "beta"])


def self_test():
    client = app.test_client()
    page = client.get("/")
    css = client.get("/static/site.css")
    print(f"poetry-app: GET / -> {page.status_code} {page.get_data(as_text=True).strip()}")
    print(f"poetry-app: GET /static/site.css -> {css.status_code} {len(css.get_data())} bytes")


if __name__ == "__main__":
    if "--self-test" in sys.argv:
        self_test()
    else:
        app.run(host="0.0.0.0", port=8000)
