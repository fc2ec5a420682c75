"""Train the iris classifier and save it into the BentoML model store ($BENTOML_HOME/models)."""
import bentoml
from sklearn import svm
from sklearn.datasets import load_iris

iris = load_iris()
clf = svm.SVC(gamma="scale")
clf.fit(iris.data, iris.target)

saved = bentoml.sklearn.save_model("iris_clf", clf)
print(f"Model saved: {saved.tag}")
