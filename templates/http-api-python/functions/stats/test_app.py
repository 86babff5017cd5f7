# Run from this folder: PYTHONPATH=../../libs/textkit python3 -m unittest
import json
import unittest

import app


class HandlerTest(unittest.TestCase):
    def test_stats(self):
        res = app.handler({"body": "The cat sat. The cat ran!"}, None)
        self.assertEqual(res["statusCode"], 200)
        self.assertEqual(json.loads(res["body"]), {
            "words": 6, "sentences": 2,
            "top": [["the", 2], ["cat", 2], ["sat", 1]],
        })

    def test_empty(self):
        self.assertEqual(app.handler({"body": "  "}, None)["statusCode"], 400)


if __name__ == "__main__":
    unittest.main()
