package app

// chinese is the page in Simplified Chinese: one string per Key (text_keys.go), in fmt.Sprintf's
// format when it takes arguments.
var chinese = map[Key]string{
	msgTitle: "CIFAR-10 训练器",
	msgSubtitle: "在本标签页的后台线程中，由 Go 引擎训练 TensorFlow 教程里的卷积神经网络。",
	msgStartingApp: "正在启动应用…",
	msgStartingWorker: "正在启动训练线程…",
	msgWorkerFailed: "训练线程出错了，请看上方的提示。",
	msgWorkerReady: "%s（矩阵乘法内核：%s）。",
	msgIsolated: "页面已启用跨源隔离。",
	msgNotIsolatedShort: "页面未启用跨源隔离，无法使用共享内存（SharedArrayBuffer）。",
	msgBuildOnline: "版本 %s。",
	msgBuildOffline: "正在离线运行：使用本浏览器保存的版本 %s。",
	msgLanguage: "语言",
	msgDismiss: "关闭",
	msgBadLang: "已忽略地址中的 lang=%q：应为 en 或 zh",
	msgMixedBuild: "本页面是版本 %s，训练线程却是版本 %s：两者来自应用的不同版本，因此无法训练；请重新加载页面以使用同一版本",
	msgNoWorkers: "此浏览器不支持后台线程（Web Worker），而训练需要它：页面仍可显示模型和检查点，但无法训练或评估。",
	msgNoSIMD: "此浏览器不支持 WebAssembly SIMD，而训练引擎依赖它：页面仍可显示模型和检查点，但无法训练或评估（请使用较新的 Chrome、Edge、Firefox 或 Safari 16.4 以上版本）。",
	msgNoIndexedDB: "此浏览器不允许页面保存数据（没有 IndexedDB）：仍可训练，但每次访问都要重新下载数据集，检查点也无法保存。",
	msgNotIsolated: "无法使用共享内存（页面未启用跨源隔离），因此只用一个训练线程，而不是每个核心一个；训练结果完全相同。",
	msgWorkerOne: "1 个线程",
	msgWorkerMany: "%d 个线程",
	msgTrainingWorkerOne: "1 个训练线程",
	msgTrainingWorkerMany: "%d 个训练线程",
	msgGroupReady: "%s已就绪",
	msgGroupLoading: "%s（%d 个已载入数据集）",
	msgGroupRun: "，其中 %d 个正在共同训练",
}
