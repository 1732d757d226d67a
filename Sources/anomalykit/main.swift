print("anomalykit")
