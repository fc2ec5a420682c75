"""The worked example: an iris classifier served by BentoML (legacy runner-style service).

POST /classify with [[5.1,3.5,1.4,0.2]] answers ["setosa"]; [[6.7,3.0,5.2,2.3]] answers ["virginica"].
Runs unchanged on BentoML up to 1.4.15 (bentoml.Service with runners).
"""
import numpy as np

import bentoml
from bentoml.io import NumpyNdarray

CLASSES = np.array(["setosa", "versicolor", "virginica"])

iris_clf_runner = bentoml.sklearn.get("iris_clf:latest").to_runner()

svc = bentoml.Service("clasificador_iris", runners=[iris_clf_runner])


@svc.api(input=NumpyNdarray(), output=NumpyNdarray())
async def classify(input_series: np.ndarray) -> np.ndarray:
    result = await iris_clf_runner.predict.async_run(input_series)
    return CLASSES[np.asarray(result, dtype=int)]
