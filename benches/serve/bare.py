"""The bare endpoint the generated application is measured against (benches/serve.sh): the same
model file, the same request body and the same answer, through a DataFrame with `predict` and
`predict_proba` as the application scores, and nothing else: no routing, log, metrics or swap.
"""

import os

import joblib
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

model = joblib.load(os.environ["MODEL_PATH"])
features = [str(name) for name in model.feature_names_in_]
classifier = hasattr(model, "predict_proba")
app = FastAPI()


class PredictRequest(BaseModel):
    rows: list[dict[str, float]]
    key: str | None = None


@app.post("/predict")
def predict(body: PredictRequest) -> dict[str, object]:
    frame = pd.DataFrame(body.rows, columns=features)
    predictions = model.predict(frame)
    if not classifier:
        return {"predictions": [float(value) for value in predictions]}
    return {
        "predictions": [int(value) for value in predictions],
        "probabilities": [float(value) for value in model.predict_proba(frame)[:, 1]],
    }
