<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>wall</name>
    <message>
        <source>Camera offline</source>
        <translation>摄像头离线</translation>
    </message>
    <message>
        <source>Incidents per hour by priority</source>
        <translation>每小时事件数（按等级）</translation>
    </message>
    <message>
        <source>Frozen</source>
        <translation>画面冻结</translation>
    </message>
    <message>
        <source>Reconnecting in %1 s</source>
        <translation>%1 秒后重连</translation>
    </message>
    <message>
        <source>Attempt %1 · last: %2</source>
        <translation>第 %1 次尝试 · 上次：%2</translation>
    </message>
    <message>
        <source>Invalid data found when processing input</source>
        <translation>流数据无法解析</translation>
    </message>
    <message>
        <source>Connection refused</source>
        <translation>连接被拒绝</translation>
    </message>
    <message>
        <source>Connection timed out</source>
        <translation>连接超时</translation>
    </message>
    <message>
        <source>End of file</source>
        <translation>流已结束</translation>
    </message>
    <message>
        <source>Server returned 404 Not Found</source>
        <translation>服务器返回 404：无此流</translation>
    </message>
    <message>
        <source>Server returned 401 Unauthorized (authorization failed)</source>
        <translation>服务器返回 401：认证失败</translation>
    </message>
    <message>
        <source>Server returned 403 Forbidden (access denied)</source>
        <translation>服务器返回 403：拒绝访问</translation>
    </message>
    <message>
        <source>Immediate exit requested</source>
        <translation>等待超时，已中止</translation>
    </message>
    <message>
        <source>Frozen for %1 s</source>
        <translation>画面已冻结 %1 秒</translation>
    </message>
    <message>
        <source>Camera name, id or region</source>
        <translation>摄像头名称、编号或区域</translation>
    </message>
    <message>
        <source>Drag a camera onto a tile · Esc closes</source>
        <translation>把摄像头拖到画面上 · Esc 关闭</translation>
    </message>
    <message>
        <source>the video decoder stopped answering: player replaced</source>
        <translation>解码器无响应，已更换播放器</translation>
    </message>
    <message>
        <source>device offline (platform)</source>
        <translation>设备离线（平台）</translation>
    </message>
    <message>
        <source>Scan with the tablet to pair it (once, within 10 minutes)</source>
        <translation>用平板扫码配对（一次有效，10 分钟内）</translation>
    </message>
    <message>
        <source>platform not answering</source>
        <translation>平台无响应</translation>
    </message>
    <message>
        <source>the platform's URL had expired</source>
        <translation>平台取流地址已过期</translation>
    </message>
    <message>
        <source>no URL form this wall plays</source>
        <translation>平台无本机可播放的取流协议</translation>
    </message>
    <message>
        <source>camera unknown to the platform</source>
        <translation>平台无此摄像头</translation>
    </message>
    <message>
        <source>backend unreachable: no play URL</source>
        <translation>后端不可达，无法取流</translation>
    </message>
    <message>
        <source>the play URL had expired</source>
        <translation>取流地址已过期</translation>
    </message>
    <message>
        <source>decoder budget reached</source>
        <translation>解码路数已达上限</translation>
    </message>
    <message>
        <source>no picture within 8 s</source>
        <translation>8 秒内无画面</translation>
    </message>
    <message>
        <source>stream ended</source>
        <translation>视频流中断</translation>
    </message>
    <message>
        <source>reconnecting</source>
        <translation>重连中</translation>
    </message>
    <message>
        <source>libvlc could not open or read the stream</source>
        <translation>无法打开或读取视频流</translation>
    </message>
    <message>
        <source>camera has no stream URL</source>
        <translation>摄像头没有视频流地址</translation>
    </message>
    <message>
        <source>Click or press Esc to close</source>
        <translation>点击或按 Esc 关闭</translation>
    </message>
    <message>
        <source>Incidents per hour by source</source>
        <translation>每小时事件数（按来源）</translation>
    </message>
    <message>
        <source>Incidents</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>No camera</source>
        <translation>无摄像头</translation>
    </message>
    <message>
        <source>No indicators</source>
        <translation>无指标</translation>
    </message>
    <message>
        <source>No map data</source>
        <translation>无地图数据</translation>
    </message>
    <message>
        <source>No picture</source>
        <translation>无画面</translation>
    </message>
    <message>
        <source>Offline since %1</source>
        <translation>离线 自 %1</translation>
    </message>
    <message>
        <source>Overdue</source>
        <translation>超时</translation>
    </message>
    <message>
        <source>Tour: %1 pages</source>
        <translation>轮巡：共 %1 页</translation>
    </message>
    <message>
        <source>no data</source>
        <translation>无数据</translation>
    </message>
    <message>
        <source>Alarm</source>
        <translation>告警</translation>
    </message>
    <message>
        <source>Cameras</source>
        <translation>摄像头</translation>
    </message>
    <message>
        <source>Data age</source>
        <translation>数据时效</translation>
    </message>
    <message>
        <source>EMERGENCY</source>
        <translation>应急状态</translation>
    </message>
    <message>
        <source>Indicators</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Open incidents</source>
        <translation>在办事件</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预案</translation>
    </message>
    <message>
        <source>Presets</source>
        <translation>预案</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>预警</translation>
    </message>
    <message>
        <source>Respond</source>
        <translation>响应</translation>
    </message>
    <message>
        <source>Arrive</source>
        <translation>到场</translation>
    </message>
    <message>
        <source>Control</source>
        <translation>控制</translation>
    </message>
    <message>
        <source>Track</source>
        <translation>跟踪</translation>
    </message>
    <message>
        <source>New</source>
        <translation>待派</translation>
    </message>
    <message>
        <source>Dispatched</source>
        <translation>已派</translation>
    </message>
    <message>
        <source>Arrived</source>
        <translation>已到场</translation>
    </message>
    <message>
        <source>Controlled</source>
        <translation>已控制</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已办结</translation>
    </message>
    <message>
        <source>Live</source>
        <translation>实时</translation>
    </message>
    <message>
        <source>Resyncing</source>
        <translation>同步中</translation>
    </message>
    <message>
        <source>Connecting</source>
        <translation>连接中</translation>
    </message>
    <message>
        <source>Offline</source>
        <translation>离线</translation>
    </message>
    <message>
        <source>Viewer</source>
        <translation>值班员</translation>
    </message>
    <message>
        <source>Commander</source>
        <translation>指挥员</translation>
    </message>
    <message>
        <source>Installer</source>
        <translation>实施人员</translation>
    </message>
    <message>
        <source>Playing</source>
        <translation>播放中</translation>
    </message>
    <message>
        <source>Stale</source>
        <translation>画面停滞</translation>
    </message>
    <message>
        <source>No signal</source>
        <translation>无信号</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>preview from the local cache</source>
        <translation>本地缓存预览</translation>
    </message>
    <message>
        <source>starting from the local cache</source>
        <translation>从本地缓存启动</translation>
    </message>
    <message>
        <source>Cameras %1</source>
        <translation>摄像头 %1</translation>
    </message>
    <message>
        <source>Drilled into %1 · Esc returns</source>
        <translation>已下钻至 %1 · Esc 返回</translation>
    </message>
    <message>
        <source>Incidents %1</source>
        <translation>事件 %1</translation>
    </message>
    <message>
        <source>Linked %1 · %2 m</source>
        <translation>联动 %1 · %2 米</translation>
    </message>
    <message>
        <source>Layout screen</source>
        <translation>布局屏幕</translation>
    </message>
    <message>
        <source>Not in the layout</source>
        <translation>不在布局中</translation>
    </message>
    <message>
        <source>(unnamed)</source>
        <translation>（未命名）</translation>
    </message>
    <message>
        <source>Preset name, scenario or pinyin initials</source>
        <translation>预案名称、场景或拼音首字母</translation>
    </message>
    <message>
        <source>↑↓ choose · Enter switches · Esc closes</source>
        <translation>↑↓ 选择 · Enter 切换 · Esc 关闭</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>Emergency</source>
        <translation>应急</translation>
    </message>
    <message>
        <source>On the wall</source>
        <translation>上墙中</translation>
    </message>
    <message>
        <source>%1 cameras</source>
        <translation>%1 路</translation>
    </message>
    <message>
        <source>Normal</source>
        <translation>常态</translation>
    </message>
    <message>
        <source>Switching: %1 (waiting for the backend)</source>
        <translation>切换中：%1（等待后台确认）</translation>
    </message>
    <message>
        <source>Switch refused: %1</source>
        <translation>切换被拒绝：%1</translation>
    </message>
    <message>
        <source>Local switch, not synchronised (backend unreachable)</source>
        <translation>本地切换，未同步（后台不可达）</translation>
    </message>
    <message>
        <source>Enter confirms · Esc cancels</source>
        <translation>Enter 确认 · Esc 取消</translation>
    </message>
    <message>
        <source>Keep the current preset</source>
        <translation>保持当前预案</translation>
    </message>
    <message>
        <source>Switch the whole wall to EMERGENCY mode?</source>
        <translation>整面大屏切换到应急模式？</translation>
    </message>
    <message>
        <source>Return the wall to normal mode?</source>
        <translation>大屏恢复常态模式？</translation>
    </message>
    <message>
        <source>The preset %1 comes back</source>
        <translation>将恢复预案 %1</translation>
    </message>
    <message>
        <source>forbidden</source>
        <translation>无权限</translation>
    </message>
    <message>
        <source>timeout</source>
        <translation>超时</translation>
    </message>
    <message>
        <source>unknown_preset</source>
        <translation>预案不存在</translation>
    </message>
    <message>
        <source>rate_limited</source>
        <translation>操作过于频繁</translation>
    </message>
    <message>
        <source>offline</source>
        <translation>后台不可达</translation>
    </message>
    <message>
        <source>Add screen</source>
        <translation>添加屏幕</translation>
    </message>
    <message>
        <source>Apply to region</source>
        <translation>应用到区域</translation>
    </message>
    <message>
        <source>Apply to screen</source>
        <translation>应用到屏幕</translation>
    </message>
    <message>
        <source>Assign this connected screen</source>
        <translation>分配此已连接屏幕</translation>
    </message>
    <message>
        <source>Bezel</source>
        <translation>拼缝补偿</translation>
    </message>
    <message>
        <source>Connected</source>
        <translation>已连接屏幕</translation>
    </message>
    <message>
        <source>Id</source>
        <translation>编号</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>No screens yet: add one</source>
        <translation>还没有屏幕：请添加</translation>
    </message>
    <message>
        <source>Not saved: the layout has problems</source>
        <translation>未保存：布局有问题</translation>
    </message>
    <message>
        <source>Options</source>
        <translation>选项</translation>
    </message>
    <message>
        <source>Rows</source>
        <translation>行数</translation>
    </message>
    <message>
        <source>Columns</source>
        <translation>列数</translation>
    </message>
    <message>
        <source>Merged tiles</source>
        <translation>合并格</translation>
    </message>
    <message>
        <source>Linkage tiles</source>
        <translation>联动画面</translation>
    </message>
    <message>
        <source>Categories</source>
        <translation>指标类别</translation>
    </message>
    <message>
        <source>Items</source>
        <translation>指标项</translation>
    </message>
    <message>
        <source>Indicator ids</source>
        <translation>指标编号</translation>
    </message>
    <message>
        <source>Sources</source>
        <translation>事件来源</translation>
    </message>
    <message>
        <source>Priorities</source>
        <translation>优先级</translation>
    </message>
    <message>
        <source>Regions</source>
        <translation>区域</translation>
    </message>
    <message>
        <source>Alert sound</source>
        <translation>提示音</translation>
    </message>
    <message>
        <source>Map level</source>
        <translation>地图层级</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>This panel has no options</source>
        <translation>此面板没有选项</translation>
    </message>
    <message>
        <source>Panel</source>
        <translation>面板</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>重做</translation>
    </message>
    <message>
        <source>Remove screen</source>
        <translation>删除屏幕</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Saved to %1</source>
        <translation>已保存到 %1</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>尺寸</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>linkage</source>
        <translation>联动</translation>
    </message>
    <message>
        <source>Layout editor</source>
        <translation>布局编辑器</translation>
    </message>
    <message>
        <source>Region</source>
        <translation>区域</translation>
    </message>
    <message>
        <source>Screen</source>
        <translation>屏幕</translation>
    </message>
    <message>
        <source>Preview</source>
        <translation>预览</translation>
    </message>
    <message>
        <source>Problems</source>
        <translation>问题</translation>
    </message>
    <message>
        <source>video</source>
        <translation>视频</translation>
    </message>
    <message>
        <source>indicators</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>incidents</source>
        <translation>事件</translation>
    </message>
    <message>
        <source>map</source>
        <translation>地图</translation>
    </message>
    <message>
        <source>status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>clock</source>
        <translation>时钟</translation>
    </message>
    <message>
        <source>trend</source>
        <translation>趋势</translation>
    </message>
    <message>
        <source>indicator_chart</source>
        <translation>指标曲线</translation>
    </message>
    <message>
        <source>Replay</source>
        <translation>回放</translation>
    </message>
    <message>
        <source>No recording</source>
        <translation>无录像</translation>
    </message>
    <message>
        <source>Loading the recording</source>
        <translation>正在读取录像</translation>
    </message>
    <message>
        <source>Back to live</source>
        <translation>回到实时</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>倍速</translation>
    </message>
    <message>
        <source>Instant replay (last %1 s)</source>
        <translation>即时回放（最近 %1 秒）</translation>
    </message>
    <message>
        <source>Incident replay</source>
        <translation>事件回溯</translation>
    </message>
    <message>
        <source>Play</source>
        <translation>播放</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>playback refused the token (401)</source>
        <translation>回放服务器拒绝了令牌（401）</translation>
    </message>
    <message>
        <source>no recording here</source>
        <translation>此时段无录像</translation>
    </message>
    <message>
        <source>playback server unreachable</source>
        <translation>无法连接回放服务器</translation>
    </message>
    <message>
        <source>playback server did not answer</source>
        <translation>回放服务器无应答</translation>
    </message>
    <message>
        <source>malformed recording list</source>
        <translation>录像列表格式错误</translation>
    </message>
    <message>
        <source>recording unreadable</source>
        <translation>录像无法读取</translation>
    </message>
    <message>
        <source>the recording has no video track</source>
        <translation>录像中没有视频轨</translation>
    </message>
    <message>
        <source>recording window too large</source>
        <translation>录像片段过大</translation>
    </message>
    <message>
        <source>playback server redirected to another host</source>
        <translation>回放服务器重定向到其他主机，已拒绝</translation>
    </message>
    <message>
        <source>the backend offers no playback</source>
        <translation>后端未提供回放</translation>
    </message>
    <message>
        <source>Data of %1</source>
        <translation>数据时刻 %1</translation>
    </message>
    <message>
        <source>No basemap: %1</source>
        <translation>底图不可用：%1</translation>
    </message>
    <message>
        <source>Units %1</source>
        <translation>处置力量 %1</translation>
    </message>
    <message>
        <source>Units %1, where they were then</source>
        <translation>处置力量 %1（当时位置，状态未知）</translation>
    </message>
    <message>
        <source>PTZ presets</source>
        <translation>云台预置位</translation>
    </message>
    <message>
        <source>Digital zoom off</source>
        <translation>退出电子放大</translation>
    </message>
    <message>
        <source>PTZ</source>
        <translation>云台</translation>
    </message>
    <message>
        <source>PTZ held by %1</source>
        <translation>云台被 %1 占用</translation>
    </message>
    <message>
        <source>Point PTZ cameras here</source>
        <translation>云台指向此处</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Priority %1 alarm</source>
        <translation>%1级告警</translation>
    </message>
    <message>
        <source>Acknowledging…</source>
        <translation>确认中…</translation>
    </message>
    <message>
        <source>Acknowledge (Enter)</source>
        <translation>确认 (Enter)</translation>
    </message>
    <message>
        <source>%1 more alarms waiting</source>
        <translation>还有 %1 条告警待处理</translation>
    </message>
    <message>
        <source>Esc: put away</source>
        <translation>Esc 暂时收起</translation>
    </message>
    <message>
        <source>%1 overdue by %2</source>
        <translation>%1已超时 %2</translation>
    </message>
    <message>
        <source>%1 in %2</source>
        <translation>%1剩余 %2</translation>
    </message>
    <message>
        <source>No picture with this alarm</source>
        <translation>此告警没有图片</translation>
    </message>
    <message>
        <source>Loading the picture…</source>
        <translation>正在获取图片…</translation>
    </message>
    <message>
        <source>Export evidence</source>
        <translation>导出证据</translation>
    </message>
    <message>
        <source>Exporting…</source>
        <translation>正在导出…</translation>
    </message>
    <message>
        <source>Exporting the evidence…</source>
        <translation>正在导出证据…</translation>
    </message>
    <message>
        <source>Evidence exported: %1</source>
        <translation>证据已导出：%1</translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation>导出失败：%1</translation>
    </message>
    <message>
        <source>Heat, last %1 h · %2</source>
        <translation>热力（近 %1 小时）· %2</translation>
    </message>
    <message>
        <source>Picture unavailable: %1</source>
        <translation>图片无法显示：%1</translation>
    </message>
    <message>
        <source>token refused</source>
        <translation>令牌被拒绝</translation>
    </message>
    <message>
        <source>no such picture</source>
        <translation>图片不存在</translation>
    </message>
    <message>
        <source>server did not answer</source>
        <translation>服务器无响应</translation>
    </message>
    <message>
        <source>server unreachable</source>
        <translation>服务器不可达</translation>
    </message>
    <message>
        <source>redirected to another host</source>
        <translation>被重定向到其他主机</translation>
    </message>
    <message>
        <source>not a picture</source>
        <translation>不是图片</translation>
    </message>
    <message>
        <source>too large</source>
        <translation>图片过大</translation>
    </message>
    <message>
        <source>too many pixels</source>
        <translation>像素过多</translation>
    </message>
    <message>
        <source>not a readable picture</source>
        <translation>图片无法解码</translation>
    </message>
    <message>
        <source>not an http(s) URL</source>
        <translation>不是 http(s) 地址</translation>
    </message>
    <message>
        <source>Reported</source>
        <translation>上报</translation>
    </message>
    <message>
        <source>Incident card</source>
        <translation>事件详情</translation>
    </message>
    <message>
        <source>D: card · Esc: put away</source>
        <translation>D 详情 · Esc 暂时收起</translation>
    </message>
    <message>
        <source>Write a note, Enter to add</source>
        <translation>输入备注，回车添加</translation>
    </message>
    <message>
        <source>Incident</source>
        <translation>事件编号</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>已确认</translation>
    </message>
    <message>
        <source>Pictures</source>
        <translation>图片</translation>
    </message>
    <message>
        <source>met</source>
        <translation>已达成</translation>
    </message>
    <message>
        <source>overdue</source>
        <translation>已超时</translation>
    </message>
    <message>
        <source>left</source>
        <translation>剩余</translation>
    </message>
    <message>
        <source>Deadlines</source>
        <translation>时限</translation>
    </message>
    <message>
        <source>History</source>
        <translation>处置记录</translation>
    </message>
    <message>
        <source>Units on it</source>
        <translation>已派力量</translation>
    </message>
    <message>
        <source>Nearest cameras</source>
        <translation>最近摄像头</translation>
    </message>
    <message>
        <source>Acknowledge</source>
        <translation>确认</translation>
    </message>
    <message>
        <source>Close (Esc)</source>
        <translation>关闭 (Esc)</translation>
    </message>
    <message>
        <source>Dispatch</source>
        <translation>派遣</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>力量</translation>
    </message>
    <message>
        <source>Grid worker</source>
        <translation>网格员</translation>
    </message>
    <message>
        <source>Patrol car</source>
        <translation>巡逻车</translation>
    </message>
    <message>
        <source>Body camera</source>
        <translation>单兵</translation>
    </message>
    <message>
        <source>Drone</source>
        <translation>无人机</translation>
    </message>
    <message>
        <source>Pump truck</source>
        <translation>泵车</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>En route</source>
        <translation>前往中</translation>
    </message>
    <message>
        <source>On site</source>
        <translation>在现场</translation>
    </message>
</context>
</TS>
