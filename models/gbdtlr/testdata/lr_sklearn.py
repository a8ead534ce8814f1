# The independent reference of gbdtlr's regression (lr_test.go): reads
# {"leaves": [[...], ...], "y": [...], "cols": J, "l2": lambda} on stdin,
# fits scikit-learn's L2 logistic regression on the one-hot leaf matrix
# (C = 1/lambda, intercept not penalised) and prints {"w": [...], "b": b}.
import json
import sys

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

d = json.load(sys.stdin)
rows = d["leaves"]
n, T = len(rows), len(rows[0])
X = csr_matrix((np.ones(n * T), np.array(rows).ravel(), np.arange(0, n * T + 1, T)), shape=(n, d["cols"]))
lr = LogisticRegression(C=1.0 / d["l2"], penalty="l2", solver="newton-cholesky", tol=1e-14, max_iter=1000)
lr.fit(X.toarray(), np.array(d["y"]))
json.dump({"w": lr.coef_[0].tolist(), "b": float(lr.intercept_[0])}, sys.stdout)
