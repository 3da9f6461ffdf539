"""Synthetic user-written text for the smallgroups demo data set.

This module holds a catalogue of interest-group topics (photography, running,
cooking, ...) with characteristic Chinese and English vocabulary and known pain
points, and renders post and comment bodies from it. Each body is written in the
requested language about the requested topic, carries a planted sentiment
(positive, neutral or negative) expressed through varied sentiment phrases and
occasional negation, and, when asked, a planted pain point: a complaint or
request that quotes the pain point phrase verbatim together with a need pattern
(``希望`` / ``能不能`` / ``怎么`` / ``不好用`` / ``求助`` / ``老是`` / ``总是``;
"I wish" / "please add" / "doesn't work" / "how do I fix" / "keeps"). Bodies
without a pain point contain no need pattern and neutral bodies contain no
sentiment phrase, so the text analytics downstream (tokenizing, class-based
TF-IDF topics, trending terms, pain-point extraction, lexicon sentiment) can be
scored against the planted answers. The generator in
``orchestration.lib.demo.generator`` decides who writes what; this module only
turns its choices into text, vectorized with numpy and fully deterministic for a
given seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TOPICS", "PainPoint", "Topic", "render_bodies"]


@dataclass(frozen=True)
class PainPoint:
    """A recurring problem users of one topic complain about.

    Attributes
    ----------
    key : str
        ASCII identifier, unique within its topic, e.g. ``"night_noise"``.
    phrase_zh : str
        Short Chinese phrase (2-6 characters) quoted verbatim in Chinese
        complaints, e.g. ``"夜景噪点"``.
    phrase_en : str
        Short English phrase (2-4 words) quoted verbatim in English
        complaints, e.g. ``"night shot noise"``.
    """

    key: str
    phrase_zh: str
    phrase_en: str


@dataclass(frozen=True)
class Topic:
    """An interest-group topic with its vocabulary and pain points.

    Attributes
    ----------
    key : str
        ASCII snake_case identifier, unique in `TOPICS`, e.g. ``"photography"``.
    name_zh : str
        Chinese display name, e.g. ``"摄影"``.
    name_en : str
        English display name, e.g. ``"Photography"``.
    terms_zh : tuple of str
        At least 25 characteristic Chinese words or phrases.
    terms_en : tuple of str
        At least 25 characteristic English words or phrases.
    pain_points : tuple of PainPoint
        At least 3 pain points.
    """

    key: str
    name_zh: str
    name_en: str
    terms_zh: tuple[str, ...]
    terms_en: tuple[str, ...]
    pain_points: tuple[PainPoint, ...]


def _topic(
    key: str,
    name_zh: str,
    name_en: str,
    terms_zh: str,
    terms_en: str,
    pains: tuple[tuple[str, str, str], ...],
) -> Topic:
    """Build a `Topic` from compact literals.

    Parameters
    ----------
    key, name_zh, name_en : str
        As in `Topic`.
    terms_zh : str
        Chinese terms separated by whitespace.
    terms_en : str
        English terms separated by commas.
    pains : tuple of (str, str, str)
        ``(key, phrase_zh, phrase_en)`` for each pain point.

    Returns
    -------
    Topic
        The topic.
    """
    return Topic(
        key=key,
        name_zh=name_zh,
        name_en=name_en,
        terms_zh=tuple(terms_zh.split()),
        terms_en=tuple(t.strip() for t in terms_en.split(",") if t.strip()),
        pain_points=tuple(PainPoint(k, zh, en) for k, zh, en in pains),
    )


TOPICS: tuple[Topic, ...] = (
    _topic(
        "photography",
        "摄影",
        "Photography",
        "光圈 快门 镜头 三脚架 长曝光 感光度 白平衡 构图 景深 焦段 广角 长焦 定焦"
        " 滤镜 后期修图 人像 风光摄影 扫街 直方图 曝光补偿 色温 微距 胶片 全画幅"
        " 快门线 防抖 测光 逆光",
        "aperture, shutter speed, tripod, long exposure, ISO, white balance,"
        " composition, depth of field, focal length, wide-angle lens, telephoto,"
        " prime lens, ND filter, Lightroom, portrait, landscape shot,"
        " street photography, histogram, exposure compensation,"
        " color temperature, macro, film roll, full-frame, remote shutter,"
        " image stabilization, metering, backlight, bokeh",
        (
            ("night_noise", "夜景噪点", "night shot noise"),
            ("focus_miss", "对焦不准", "autofocus misses"),
            ("battery_drain", "电池掉电快", "fast battery drain"),
            ("slow_export", "导出太慢", "slow RAW export"),
        ),
    ),
    _topic(
        "running",
        "跑步",
        "Running",
        "配速 跑鞋 马拉松 半马 间歇跑 心率区间 步频 跑量 晨跑 夜跑 越野跑 拉伸"
        " 乳酸阈 跑步机 冲刺 长距离慢跑 能量胶 号码布 补给站 跑团 步幅 跑姿 配速表"
        " 全马 轻松跑 热身 法特莱克",
        "pace, running shoes, marathon, half marathon, interval run,"
        " heart rate zone, cadence, weekly mileage, morning run, night run,"
        " trail running, stretching, lactate threshold, treadmill, sprint,"
        " long slow distance, energy gel, race bib, aid station, running club,"
        " stride length, running form, tempo run, negative split, easy run,"
        " warm-up, fartlek, 10K race",
        (
            ("pace_inaccurate", "配速不准", "inaccurate pace readings"),
            ("gps_drift", "轨迹漂移", "GPS track drift"),
            ("knee_pain", "膝盖疼", "knee pain after runs"),
            ("shoe_wear", "鞋底磨损快", "worn-out shoe soles"),
        ),
    ),
    _topic(
        "cooking",
        "烹饪",
        "Cooking",
        "菜谱 炒锅 火候 酱油 蚝油 红烧肉 清蒸鱼 爆炒 焯水 勾芡 高压锅 砂锅 刀工"
        " 腌制 调味 蒸锅 烤箱 空气炸锅 家常菜 糖醋排骨 葱姜蒜 料酒 生抽 老抽 炖汤"
        " 凉拌菜 铸铁锅",
        "recipe, wok, soy sauce, oyster sauce, braised pork, steamed fish,"
        " stir-fry, blanching, cornstarch slurry, pressure cooker, clay pot,"
        " knife skills, marinade, seasoning, steamer, oven, air fryer,"
        " home cooking, sweet and sour ribs, garlic and ginger, cooking wine,"
        " cast iron skillet, slow cooker, meal prep, simmering, chopping board,"
        " saute pan",
        (
            ("vague_recipe", "菜谱不清楚", "vague recipe steps"),
            ("pan_sticking", "粘锅", "food sticking to pan"),
            ("oil_smoke", "油烟太大", "heavy cooking smoke"),
        ),
    ),
    _topic(
        "hiking",
        "徒步登山",
        "Hiking",
        "徒步 登山杖 冲锋衣 登山鞋 海拔 等高线 垭口 露营 帐篷 睡袋 头灯 补水"
        " 路线规划 轨迹记录 山脊 溯溪 重装 轻装 营地 高反 遮阳帽 速干衣 指南针 登顶"
        " 下撤 领队 护膝",
        "trekking poles, hardshell jacket, hiking boots, elevation gain,"
        " contour lines, mountain pass, campsite, tent, sleeping bag, headlamp,"
        " water bladder, route planning, GPX track, ridge line, river trekking,"
        " backpack weight, ultralight, base camp, altitude sickness, sun hat,"
        " quick-dry shirt, compass, summit, descent, trail leader, knee brace,"
        " trailhead",
        (
            ("no_signal", "山里没信号", "trail signal loss"),
            ("blisters", "脚磨泡", "foot blisters"),
            ("offline_map", "离线地图缺失", "missing offline maps"),
        ),
    ),
    _topic(
        "gaming",
        "游戏",
        "Gaming",
        "段位 排位赛 副本 开黑 手柄 帧率 显卡 皮肤 抽卡 氪金 版本更新 英雄 连招 队友"
        " 上分 通关 存档 主机 电竞 攻略 装备 打野 补刀 开放世界 独立游戏 成就 新赛季",
        "ranked match, dungeon raid, squad, controller, frame rate,"
        " graphics card, skins, gacha pulls, microtransactions, patch notes,"
        " character build, combo, teammates, leaderboard, speedrun, save file,"
        " console, esports, walkthrough, loot, jungler, last hit, open world,"
        " indie game, achievements, new season, boss fight",
        (
            ("lag_spikes", "延迟卡顿", "online lag spikes"),
            ("long_queue", "匹配太久", "long matchmaking queues"),
            ("cheaters", "外挂太多", "rampant cheaters"),
        ),
    ),
    _topic(
        "parenting",
        "育儿",
        "Parenting",
        "宝宝 辅食 奶粉 尿不湿 早教 绘本 幼儿园 睡前故事 哄睡 疫苗 育儿嫂 亲子游"
        " 二胎 月嫂 夜奶 分离焦虑 湿疹 积木 学步车 儿童座椅 家长会 亲子阅读 出牙 断奶"
        " 儿科 安抚奶嘴 陪玩",
        "toddler, baby food, formula milk, diapers, early education,"
        " picture books, kindergarten, bedtime story, nap schedule, vaccines,"
        " nanny, family trip, second child, postpartum, night feeding,"
        " separation anxiety, eczema, building blocks, baby walker, car seat,"
        " parent-teacher meeting, teething, weaning, pediatrician, pacifier,"
        " playdate, stroller",
        (
            ("sleep", "宝宝不睡觉", "baby bedtime struggles"),
            ("picky_eating", "挑食", "picky eating habits"),
            ("screen_time", "沉迷手机", "excessive screen time"),
        ),
    ),
    _topic(
        "pets",
        "宠物",
        "Pets",
        "猫粮 狗粮 猫砂 驱虫 绝育 遛狗 铲屎官 猫抓板 宠物医院 狂犬针 冻干 罐头"
        " 牵引绳 猫爬架 发腮 布偶猫 金毛 柯基 橘猫 逗猫棒 狗窝 宠物体检 宠物保险"
        " 自动喂食器 磨牙棒 猫草",
        "cat food, kibble, cat litter, deworming, neutering, dog walking,"
        " scratching post, vet clinic, rabies shot, freeze-dried treats,"
        " wet food, leash, cat tree, ragdoll, golden retriever, corgi,"
        " ginger cat, feather wand, dog bed, pet insurance, automatic feeder,"
        " chew toy, catnip, grooming, flea collar, harness",
        (
            ("shedding", "掉毛严重", "heavy fur shedding"),
            ("vet_cost", "看病太贵", "expensive vet bills"),
            ("odor", "异味太重", "litter box odor"),
        ),
    ),
    _topic(
        "study_math",
        "数学学习",
        "Math Study",
        "微积分 导数 积分 线性代数 矩阵 概率 数列 函数 几何 三角函数 不等式 极限"
        " 方程 向量 解析几何 立体几何 错题本 压轴题 数学竞赛 排列组合 特征值 行列式"
        " 复数 统计 模拟卷 奥数 集合",
        "calculus, derivative, integral, linear algebra, matrix, probability,"
        " sequence, function graph, geometry, trigonometry, inequality, limit,"
        " equation, vector, analytic geometry, solid geometry, mistake notebook,"
        " final problem, math olympiad, combinatorics, eigenvalue, determinant,"
        " complex numbers, statistics, mock exam, proof by induction,"
        " set theory",
        (
            ("proof_stuck", "证明题不会", "getting stuck on proofs"),
            ("formula_memory", "公式记不住", "forgetting formulas"),
            ("no_explanation", "答案没解析", "answers without explanations"),
        ),
    ),
    _topic(
        "english_learning",
        "英语学习",
        "English Learning",
        "雅思 托福 背单词 词根词缀 听力 口语 语法 阅读理解 写作 作文批改 精听 泛听"
        " 影子跟读 音标 连读 四六级 考研英语 长难句 词汇量 美剧 外刊 单词书 真题"
        " 同义替换 发音 英语角 百词斩",
        "IELTS, TOEFL, vocabulary list, word roots, listening practice,"
        " speaking test, grammar, reading comprehension, essay writing,"
        " essay feedback, intensive listening, phonetics, linking sounds, CET-6,"
        " shadowing, long sentences, vocabulary size, sitcoms, The Economist,"
        " flashcards, past papers, paraphrasing, pronunciation, English corner,"
        " Anki deck, phrasal verbs, tenses",
        (
            ("listening", "听不懂", "fast audio dialogues"),
            ("vocab_forget", "单词总忘", "forgetting new words"),
            ("speaking_nervous", "不敢开口", "speaking anxiety"),
        ),
    ),
    _topic(
        "programming",
        "编程",
        "Programming",
        "代码 编译 调试 断点 单元测试 接口 数据库 前端 后端 框架 部署 容器 版本控制"
        " 代码评审 重构 算法题 内存泄漏 并发 服务器 日志 命令行 开源项目 依赖包"
        " 类型注解 正则表达式 递归 脚本",
        "code review, compiler, debugger, breakpoint, unit tests, API,"
        " database, frontend, backend, framework, deployment, Docker container,"
        " git branch, refactoring, LeetCode, memory leak, concurrency, server,"
        " logging, command line, open source, package manager, type hints,"
        " regex, recursion, Python script, pull request",
        (
            ("slow_build", "编译太慢", "slow build times"),
            ("env_setup", "环境配不好", "broken environment setup"),
            ("dep_conflict", "依赖冲突", "dependency version conflicts"),
        ),
    ),
    _topic(
        "fitness",
        "健身",
        "Fitness",
        "深蹲 卧推 硬拉 哑铃 杠铃 蛋白粉 增肌 减脂 体脂率 有氧 无氧 核心训练 私教"
        " 训练计划 引体向上 俯卧撑 平板支撑 肌酸 组间休息 热量缺口 臀桥 弹力带 划船机"
        " 肩推 健身餐 力量举 筋膜枪",
        "squat, bench press, deadlift, dumbbell, barbell, protein powder,"
        " bulking, cutting, body fat, cardio, HIIT, core workout,"
        " personal trainer, training plan, pull-ups, push-ups, plank, creatine,"
        " rest between sets, calorie deficit, glute bridge, resistance band,"
        " rowing machine, overhead press, meal plan, powerlifting, foam roller",
        (
            ("plateau", "平台期", "strength plateau"),
            ("soreness", "肌肉酸痛", "lasting muscle soreness"),
            ("crowded_gym", "健身房人多", "crowded gym hours"),
        ),
    ),
    _topic(
        "travel",
        "旅行",
        "Travel",
        "机票 酒店 民宿 签证 行程单 自由行 跟团游 背包客 护照 转机 行李箱 登机牌"
        " 景点 门票 旅行保险 汇率 里程 目的地 自驾游 高铁 青旅 免税店 打卡 值机"
        " 当地美食 落地签",
        "flight tickets, hotel, guesthouse, visa application, itinerary,"
        " independent travel, tour group, backpacker, passport, layover,"
        " suitcase, boarding pass, sightseeing, entrance tickets,"
        " travel insurance, exchange rate, air miles, destination, road trip,"
        " bullet train, hostel, duty free, check-in counter, local food,"
        " visa on arrival, carry-on",
        (
            ("visa_delay", "出签太慢", "slow visa processing"),
            ("hotel_mismatch", "酒店货不对板", "misleading hotel photos"),
            ("flight_delay", "航班延误", "delayed flights"),
        ),
    ),
    _topic(
        "reading_club",
        "读书会",
        "Reading Club",
        "书单 读书会 共读 书评 读书笔记 小说 散文 诗集 作者 章节 书摘 纸质书 电子书"
        " 有声书 推理小说 科幻 经典名著 豆瓣评分 借书 图书馆 书签 金句 人物关系 伏笔"
        " 结局 译本 读后感",
        "reading list, book club, chapter discussion, book review,"
        " reading notes, novel, essay collection, poetry, author, chapter,"
        " quotes, paperback, Kindle, audiobook, mystery novel,"
        " science fiction, classics, Goodreads rating, library card, bookmark,"
        " highlights, character arc, foreshadowing, ending, translation,"
        " hardcover, book swap",
        (
            ("unfinished", "读不完", "unfinished reading assignments"),
            ("ebook_layout", "排版错乱", "broken ebook layout"),
            ("quiet_discussion", "讨论冷场", "quiet discussion sessions"),
        ),
    ),
    _topic(
        "music",
        "音乐",
        "Music",
        "吉他 钢琴 和弦 指弹 节拍器 乐理 五线谱 简谱 练琴 尤克里里 编曲 混音 录音"
        " 声卡 麦克风 调音器 音阶 琶音 架子鼓 贝斯 作曲 乐队 排练 演出 小提琴 扫弦"
        " 变调夹",
        "guitar, piano, chord progression, fingerstyle, metronome,"
        " music theory, staff notation, numbered notation, practice session,"
        " ukulele, arrangement, mixing, recording, audio interface, microphone,"
        " tuner, scales, arpeggio, drum kit, bass guitar, songwriting, cover band,"
        " rehearsal, gig, violin, strumming, capo",
        (
            ("tuning", "调音不准", "tuning drift"),
            ("practice_room", "没有琴房", "practice room shortage"),
            ("sheet_music", "谱子难找", "missing sheet music"),
        ),
    ),
    _topic(
        "gardening",
        "园艺",
        "Gardening",
        "多肉 绿萝 月季 盆栽 营养土 浇水 施肥 修剪 扦插 播种 育苗 花盆 阳台花园"
        " 缓释肥 杀虫剂 换盆 光照 发芽 开花 爬藤 番茄苗 薄荷 堆肥 绣球 兰花 园艺剪"
        " 蛭石",
        "succulents, pothos, roses, potted plants, potting soil,"
        " watering schedule, fertilizer, pruning, cuttings, sowing seeds,"
        " seedlings, planter, balcony garden, slow-release fertilizer,"
        " pesticide, repotting, sunlight, germination, blooming,"
        " climbing plants, tomato plants, mint, compost, hydrangea, orchids,"
        " pruning shears, perlite",
        (
            ("pests", "虫害", "aphid infestation"),
            ("root_rot", "烂根", "root rot"),
            ("yellow_leaves", "叶子发黄", "yellowing leaves"),
        ),
    ),
    _topic(
        "local_neighbourhood",
        "社区邻里",
        "Local Neighbourhood",
        "小区 物业 业主群 邻居 快递柜 菜市场 停车位 电梯 社区活动 团购 便利店 门禁"
        " 保安 绿化 业委会 维修资金 跳蚤市场 社区医院 公交站 广场舞 拼车 二手闲置"
        " 邻里互助 装修 水电费 物业费 儿童乐园",
        "neighbourhood, property management, residents group chat, neighbours,"
        " parcel locker, wet market, parking spot, elevator, community event,"
        " group buying, convenience store, access card, security guard,"
        " green space, homeowners association, maintenance fund, flea market,"
        " community clinic, bus stop, square dancing, carpool,"
        " secondhand swap, mutual aid, renovation, utility bills,"
        " management fee, playground",
        (
            ("noise", "楼上噪音", "noisy upstairs neighbours"),
            ("parking", "停车难", "parking space shortage"),
            ("lost_parcel", "快递丢失", "lost parcels"),
        ),
    ),
    _topic(
        "cycling",
        "骑行",
        "Cycling",
        "公路车 山地车 骑行 变速器 车架 锁鞋 码表 踏频 爬坡 头盔 骑行服 补胎 链条"
        " 飞轮 刹车 轮组 功率计 骑行台 车队 环湖骑行 折叠车 坐垫 打气筒 尾灯 车把"
        " 碟刹 牙盘",
        "road bike, mountain bike, group ride, derailleur, carbon frame,"
        " clipless pedals, bike computer, hill climb, helmet, cycling jersey,"
        " tube patch, chain lube, cassette, brakes, wheelset, power meter,"
        " indoor trainer, peloton, lake loop, folding bike, saddle, floor pump,"
        " tail light, handlebar, disc brakes, chainring, Strava segment",
        (
            ("flat_tyre", "爆胎", "flat tyres"),
            ("gear_shift", "变速不顺", "rough gear shifting"),
            ("bike_lane", "没有自行车道", "missing bike lanes"),
        ),
    ),
    _topic(
        "board_games",
        "桌游",
        "Board Games",
        "桌游 狼人杀 剧本杀 卡牌 骰子 扩展包 阿瓦隆 卡坦岛 德式桌游 美式桌游 合作游戏"
        " 手牌 回合 发牌 主持人 桌游吧 开局 胜利点数 资源管理 身份牌 阵营 角色卡"
        " 桌游聚会 卡套 版图 行动点 计分板",
        "board game night, Werewolf, murder mystery game, card deck, dice,"
        " expansion pack, Avalon, Catan, Eurogame, Ameritrash, co-op game,"
        " hand cards, turn order, dealing cards, game master, board game cafe,"
        " opening move, victory points, resource management, hidden roles,"
        " role cards, meeple, card sleeves, game board, action points,"
        " score track, worker placement",
        (
            ("missing_pieces", "缺配件", "missing game pieces"),
            ("rules", "规则看不懂", "confusing rulebook"),
            ("no_players", "凑不齐人", "player shortage"),
        ),
    ),
    _topic(
        "skincare",
        "护肤",
        "Skincare",
        "防晒霜 精华 面霜 洁面 爽肤水 乳液 面膜 水杨酸 烟酰胺 视黄醇 玻尿酸 敏感肌"
        " 油皮 干皮 混合皮 闭口 黑头 卸妆油 屏障修护 成分表 早C晚A 刷酸 保湿 控油"
        " 眼霜 物理防晒 空瓶",
        "sunscreen, serum, moisturizer, cleanser, toner, lotion, sheet mask,"
        " salicylic acid, niacinamide, retinol, hyaluronic acid,"
        " sensitive skin, oily skin, dry skin, combination skin, clogged pores,"
        " blackheads, cleansing oil, skin barrier, ingredient list, vitamin C,"
        " exfoliating, hydration, oil control, eye cream, SPF 50, empties",
        (
            ("breakout", "爆痘", "skin breakouts"),
            ("irritation", "过敏泛红", "redness and irritation"),
            ("fake_product", "买到假货", "fake product listings"),
        ),
    ),
    _topic(
        "investing",
        "投资理财",
        "Investing",
        "基金 定投 股票 指数基金 仓位 止损 分红 市盈率 债券 资产配置 复利 年化收益"
        " 回撤 港股 美股 可转债 财报 估值 牛市 熊市 加仓 减仓 理财 券商 红利 打新"
        " 持仓",
        "index fund, dollar-cost averaging, stocks, ETF, position size,"
        " stop-loss, dividends, P/E ratio, bonds, asset allocation,"
        " compound interest, annualized return, drawdown, Hong Kong stocks,"
        " US stocks, convertible bonds, earnings report, valuation,"
        " bull market, bear market, averaging down, trimming,"
        " brokerage account, IPO, portfolio, rebalancing, emergency fund",
        (
            ("fees", "手续费高", "high trading fees"),
            ("app_freeze", "行情卡顿", "quote app freezes"),
            ("noisy_news", "消息太杂", "conflicting market news"),
        ),
    ),
    _topic(
        "film",
        "电影",
        "Film",
        "电影院 影评 导演 剧情 演技 运镜 配乐 票房 预告片 彩蛋 续集 纪录片 动画电影"
        " 悬疑片 院线 巨幕厅 观影团 片单 影展 编剧 主演 剪辑 蓝光 文艺片 奥斯卡 首映"
        " 修复版 流媒体",
        "cinema, film review, director, plot twist, acting, cinematography,"
        " soundtrack, box office, trailer, post-credits scene, sequel,"
        " documentary, animated feature, thriller, IMAX screening,"
        " watch party, watchlist, film festival, screenwriter, lead actor,"
        " editing, Blu-ray, arthouse film, Oscars, premiere, restored version,"
        " streaming service, director's cut",
        (
            ("subtitle_sync", "字幕不同步", "subtitle sync errors"),
            ("spoilers", "被剧透", "spoiler leaks"),
            ("blurry_stream", "画质太糊", "blurry streaming quality"),
        ),
    ),
    _topic(
        "knitting",
        "编织",
        "Knitting",
        "毛线 棒针 钩针 起针 收针 平针 罗纹 麻花 毛衣 围巾 帽子 线团 密度 图解"
        " 羊毛线 马海毛 织片 挑针 加针 减针 引返 换线 针织衫 编织包 手作 织毯",
        "yarn, knitting needles, crochet hook, cast on, bind off, stockinette,"
        " ribbing, cable knit, sweater, scarf, beanie, yarn ball, gauge swatch,"
        " knitting chart, merino wool, mohair, purl stitch, pick up stitches,"
        " increase, decrease, short rows, colorwork, cardigan, tote bag,"
        " handmade, blanket, circular needles",
        (
            ("pilling", "起球严重", "yarn pilling"),
            ("dropped_stitch", "掉针", "dropped stitches"),
            ("uneven_tension", "松紧不匀", "uneven knitting tension"),
        ),
    ),
    _topic(
        "coffee",
        "咖啡",
        "Coffee",
        "手冲 意式浓缩 拿铁 冰美式 咖啡豆 磨豆机 研磨度 萃取 烘焙度 浅烘 深烘 单品豆"
        " 挂耳 冷萃 奶泡 拉花 滤杯 手冲壶 粉水比 闷蒸 咖啡机 咖啡馆 产区 耶加雪菲"
        " 瑰夏 冰滴 摩卡壶",
        "pour-over, espresso shot, latte, americano, coffee beans,"
        " burr grinder, grind size, extraction, roast level, light roast,"
        " dark roast, single origin, drip bag, cold brew, milk foam, latte art,"
        " V60 dripper, gooseneck kettle, brew ratio, bloom, espresso machine,"
        " coffee shop, origin region, Yirgacheffe, Geisha, moka pot,"
        " flat white",
        (
            ("uneven_grind", "研磨不均", "inconsistent grind"),
            ("sour", "口感发酸", "sour aftertaste"),
            ("leak", "机器漏水", "machine water leaks"),
        ),
    ),
    _topic(
        "language_exchange",
        "语言交换",
        "Language Exchange",
        "语伴 语言交换 日语 韩语 法语 西班牙语 德语 五十音 敬语 母语者 线上语聊"
        " 互相纠错 文化差异 口音 方言 语言角 自我介绍 初级 中级 打招呼 俚语 视频通话"
        " 笔友 汉语 留学生 语言班 语聊软件",
        "language partner, tandem exchange, Japanese, Korean, French, Spanish,"
        " German, hiragana, honorifics, native speaker, voice chat,"
        " error correction, cultural differences, accent, dialect,"
        " language cafe, self-introduction, beginner level,"
        " intermediate level, greetings, slang, video call, pen pal, Mandarin,"
        " exchange student, HelloTalk, idioms",
        (
            ("no_show", "被放鸽子", "partner no-shows"),
            ("timezone", "时差难约", "timezone scheduling trouble"),
            ("level_mismatch", "水平不匹配", "mismatched language levels"),
        ),
    ),
    _topic(
        "fishing",
        "钓鱼",
        "Fishing",
        "钓鱼 路亚 台钓 鱼竿 鱼线 鱼饵 浮漂 打窝 钓点 鲫鱼 鲤鱼 翘嘴 饵料 抛竿 调漂"
        " 子线 钓箱 抄网 夜钓 海钓 黑坑 野钓 鱼护 拟饵 渔轮 鱼获",
        "fishing rod, lure fishing, float fishing, fishing line, bait, bobber,"
        " chumming, fishing spot, crucian carp, common carp, topmouth culter,"
        " casting, float tuning, leader line, tackle box, landing net,"
        " night fishing, sea fishing, stocked pond, wild fishing, keepnet,"
        " soft plastic lure, spinning reel, catch of the day, groundbait,"
        " hook size",
        (
            ("no_bites", "没有鱼口", "zero fish bites"),
            ("line_tangle", "炸线", "tangled line knots"),
            ("spot_closed", "水库禁钓", "reservoir fishing bans"),
        ),
    ),
    _topic(
        "calligraphy",
        "书法",
        "Calligraphy",
        "毛笔 宣纸 墨汁 砚台 字帖 临帖 楷书 行书 草书 隶书 篆书 笔画 笔锋 中锋 侧锋"
        " 结构 章法 颜体 欧体 王羲之 兰亭序 硬笔 钢笔字 毛毡 镇纸 落款 印章",
        "calligraphy brush, rice paper, ink stick, inkstone, copybook,"
        " tracing practice, regular script, running script, cursive script,"
        " clerical script, seal script, stroke order, brush tip, center tip,"
        " side tip, character structure, column spacing, Yan style,"
        " Ouyang Xun, Wang Xizhi, Lanting Preface, fountain pen, felt mat,"
        " paperweight, signature inscription, seal stamp,"
        " hard-pen calligraphy",
        (
            ("ink_bleed", "洇墨严重", "ink bleed-through"),
            ("split_brush", "笔毛开叉", "split brush hairs"),
            ("copybook_choice", "选帖纠结", "copybook selection"),
        ),
    ),
)

# ---------------------------------------------------------------------------
# Sentiment phrases.  ``a`` and ``b`` fill the ``{s1}`` and ``{s2}`` slots of
# the templates (zh: short clauses usable on their own; en: ``a`` adjectives,
# ``b`` first-person clauses).  ``negation`` fills the optional ``{neg}`` slot:
# a negated word of the *opposite* polarity ("不太满意" in a negative message,
# "Not bad at all." in a positive one), so a lexicon that ignores negation is
# misled now and then.  Negation clauses never contain an ``a``/``b`` phrase of
# the opposite polarity, and every template with ``{neg}`` also has ``{s1}``
# and ``{s2}``, so the planted label stays recoverable from the phrases.
# ---------------------------------------------------------------------------

_SENTIMENTS = ("positive", "neutral", "negative")
_LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class _Slots:
    """Fillers of the sentiment slots for one (language, sentiment)."""

    a: tuple[str, ...]
    b: tuple[str, ...]
    negation: tuple[str, ...]


_SLOTS: dict[tuple[str, str], _Slots] = {
    ("zh", "positive"): _Slots(
        a=(
            "太棒了",
            "非常满意",
            "超赞",
            "完美",
            "很给力",
            "很优秀",
            "很漂亮",
            "很实用",
            "挺不错",
            "很舒服",
            "很过瘾",
            "很专业",
            "很省心",
        ),
        b=(
            "强烈推荐",
            "很喜欢",
            "爱了",
            "有惊喜",
            "很开心",
            "值得入手",
            "必须好评",
            "收获满满",
            "真心点赞",
        ),
        negation=(
            "一点也不失望，",
            "完全不难用，",
            "这次没踩雷，",
            "一点不后悔，",
            "没想象中糟糕，",
        ),
    ),
    ("zh", "neutral"): _Slots(
        a=("想问一下", "请教一下", "新人报到", "弱弱问一句", "打扰一下", "路过问问"),
        b=("谢谢", "先谢过", "坐等回复", "有经验的说说", "蹲一个"),
        negation=(),
    ),
    ("zh", "negative"): _Slots(
        a=(
            "很失望",
            "太糟糕了",
            "太难用了",
            "太差了",
            "无语",
            "离谱",
            "很差劲",
            "很头疼",
            "太气人了",
            "不靠谱",
            "很垃圾",
        ),
        b=(
            "后悔了",
            "烦死了",
            "要崩溃了",
            "心累",
            "踩雷了",
            "浪费钱",
            "坑人",
            "郁闷",
            "受不了",
            "闹心",
        ),
        negation=(
            "说实话不太满意，",
            "真心不推荐，",
            "一点都不喜欢，",
            "毫无惊喜可言，",
            "并不开心，",
        ),
    ),
    ("en", "positive"): _Slots(
        a=(
            "great",
            "awesome",
            "amazing",
            "fantastic",
            "excellent",
            "perfect",
            "brilliant",
            "wonderful",
            "superb",
            "helpful",
            "lovely",
            "outstanding",
        ),
        b=(
            "I love it",
            "I highly recommend it",
            "I really enjoyed it",
            "I'm so happy with it",
            "I think it's totally worth it",
            "I'm impressed",
            "I'm glad I tried it",
            "I'm thrilled with the results",
            "I'm delighted",
            "I'm a big fan now",
        ),
        negation=(
            "Not bad at all. ",
            "No regrets. ",
            "Never disappointed. ",
            "Not annoying like I feared. ",
            "Zero complaints. ",
        ),
    ),
    ("en", "neutral"): _Slots(
        a=(
            "Quick question",
            "Newbie here",
            "Just curious",
            "Hi all",
            "Sorry if this was asked before",
            "Question for the group",
        ),
        b=(
            "Thanks in advance.",
            "Any pointers appreciated.",
            "Cheers.",
            "Curious what others think.",
            "Just wondering.",
        ),
        negation=(),
    ),
    ("en", "negative"): _Slots(
        a=(
            "terrible",
            "awful",
            "frustrating",
            "annoying",
            "useless",
            "horrible",
            "mediocre",
            "disappointing",
            "ridiculous",
            "unreliable",
            "overpriced",
            "bad",
            "poor",
        ),
        b=(
            "I'm so disappointed",
            "I feel it's a total waste of money",
            "I regret buying it",
            "I hate it",
            "I'm fed up with it",
            "I think it just sucks",
            "I'm really angry about it",
            "I find it pointless",
            "I'm done with it",
            "It's the worst",
        ),
        negation=(
            "Not great. ",
            "Would not recommend. ",
            "Not impressed. ",
            "Didn't enjoy it. ",
            "Not worth it. ",
        ),
    ),
}

_NEGATION_RATE = 0.3

# Openers and numbers add surface variety at almost no cost.
_OPENERS = {
    "zh": ("", "", "今天", "周末", "昨天", "这两天", "刚刚"),
    "en": ("", "", " today", " this weekend", " yesterday", " last night", " this morning"),
}
_NUMBERS = tuple(str(i) for i in range(100))

# ---------------------------------------------------------------------------
# Templates.  Slots: {t1}..{t4} distinct topic terms, {s1} {s2} sentiment
# phrases, {neg} optional negation clause (may be empty), {pain} / {Pain} the
# pain point phrase (capitalized for sentence starts), {op} opener, {k} small
# number.  Pain templates always quote {pain} and a need pattern; the other
# templates never contain a need pattern.
# ---------------------------------------------------------------------------

_TEMPLATES: dict[tuple[str, bool, str], tuple[str, ...]] = {
    ("zh", False, "positive"): (
        "{op}试了{t1}配{t2}，{s1}！{neg}{s2}。",
        "分享一下最近的{t1}心得：{t2}和{t3}搭配起来{s1}，{s2}。",
        "{neg}这次的{t1}活动{s1}，学到了不少{t2}的技巧，{s2}！",
        "练了{k}周{t1}，{s1}，{t2}也进步了，{s2}~",
        "今天的{t1}{s1}，{s2}！",
        "楼主的{t1}和{t2}经验{s1}，{neg}{s2}，收藏了。",
        "第一次参加{t1}分享就遇到这么好的群，{t2}{s1}，{s2}！",
        "终于搞定了{t1}，{t2}+{t3}的组合{s1}，{s2}",
        "{t1}、{t2}、{t3}、{t4}都试过了，{s1}，{neg}{s2}。",
        "{s2}！{t1}入门的话先看{t2}，讲得{s1}。",
    ),
    ("zh", False, "neutral"): (
        "请问{t1}和{t2}哪个更适合新手？",
        "{s1}，大家平时{t1}用什么{t2}？{s2}",
        "记录一下：今天练了{t1}，顺便研究了{t2}和{t3}。",
        "有人周末一起交流{t1}吗？顺便聊聊{t2}。",
        "{t1}、{t2}、{t3}这几个有什么区别？{s2}",
        "整理了一份{t1}和{t2}的资料，放在群文件了，需要的自取。",
        "第{k}天记录：{t1}，{t2}，{t3}。",
        "{s1}，{t1}一般多久练一次？{t2}需要单独买吗？",
        "下周的线上分享主题是{t1}和{t2}，感兴趣的可以报名。",
        "{t1}新手，目前在看{t2}相关的内容，有没有系统一点的资料？{s2}",
    ),
    ("zh", False, "negative"): (
        "{op}试了{t1}配{t2}，{s1}，{neg}{s2}。",
        "{t1}真的{s1}，{t2}也一般，{s2}。",
        "{neg}花了{k}百块买{t1}，结果{s1}，{s2}。",
        "这次{t1}活动{s1}，{t2}和{t3}讲得很乱，{s2}！",
        "说{t1}好的人是认真的吗？{s1}，{s2}。",
        "{t1}折腾了{k}天，{t2}还是不行，{s1}，{neg}{s2}",
        "{t1}、{t2}、{t3}都换了一遍，{s1}，{s2}。",
        "{s2}！{t1}和{t2}完全不是宣传的那样，{s1}。",
    ),
    ("zh", True, "negative"): (
        "{t1}的时候{pain}太明显了，{pain}怎么解决？希望出个{t2}教程，{s1}。",
        "求助：最近{t1}老是{pain}，试了{t2}和{t3}都没用，{s1}",
        "{pain}的问题总是出现，{t1}和{t2}都调过了，{s2}，希望官方看看",
        "能不能解决一下{pain}？每次用{t1}都这样，{s1}。",
        "因为{pain}，{t1}现在很不好用，{s2}。",
        "又遇到{pain}了，{t1}{t2}都换过，怎么还是这样？{s2}",
        "{op}又出现{pain}，{s1}。能不能在{t1}里加个提醒？",
        "{pain}老是困扰我，{t1}练了{k}周还是{s1}，求助各位！",
    ),
    ("zh", True, "neutral"): (
        "请问{pain}怎么解决？我用的是{t1}和{t2}，{s2}。",
        "希望能出一期关于{pain}的{t1}教程，{s2}。",
        "{s1}，{t1}的时候总是{pain}，有什么办法吗？",
        "能不能加一个处理{pain}的专区？平时主要聊{t1}和{t2}。",
        "求助：{t1}遇到{pain}一般怎么处理？{s2}",
    ),
    ("zh", True, "positive"): (
        "{t1}和{t2}都{s1}，就是{pain}老是解决不了，希望出个教程。",
        "{s2}这个小组！不过{pain}怎么处理？用{t1}的时候特别明显。",
        "群里的{t1}经验{s1}，能不能也讲讲{pain}？",
    ),
    ("en", False, "positive"): (
        "Just tried {t1} with the {t2}{op} and it was {s1}. {neg}{s2}.",
        "Sharing my notes on {t1}: pairing {t2} with {t3} is {s1}, {s2}!",
        "{neg}This week's {t1} meetup was {s1}. Learned so much about {t2}, {s2}.",
        "{k} weeks into {t1} and my {t2} has improved a lot. The group is {s1} and {s2}.",
        "Finally figured out {t1}! The {t2} + {t3} combo is {s1} and {s2}.",
        "Tried {t1}, {t2}, {t3} and {t4} this month. All {s1}, {s2}.",
        "{neg}Your {t1} and {t2} tips are {s1}. {s2}, thanks!",
        "First time at the {t1} session{op} and {s2}. The {t2} part was {s1}!",
        "{s2}. If you're new to {t1}, start with the {t2} guide, it's {s1}.",
    ),
    ("en", False, "neutral"): (
        "Quick question: which is better for beginners, {t1} or {t2}?",
        "{s1}, what {t1} do you all use with your {t2}? {s2}",
        "Logging today's session: worked on {t1}, then read up on {t2} and {t3}.",
        "Anyone free this weekend to talk about {t1}? We could compare notes on {t2}.",
        "What's the difference between {t1}, {t2} and {t3}? {s2}",
        (
            "I put together a list of {t1} and {t2} resources in the group files,"
            " feel free to grab it."
        ),
        "Day {k} log: {t1}, {t2}, {t3}.",
        "{s1}: how often do you practice {t1}? Do I need a separate {t2}?",
        "Next week's online session covers {t1} and {t2}. Sign-up link is in the pinned post.",
        "New to {t1}, currently reading about {t2}. Is there a structured resource somewhere? {s2}",
    ),
    ("en", False, "negative"): (
        "Just tried {t1} with the {t2}{op} and it was {s1}. {neg}{s2}.",
        "Spent ${k}0 on {t1} gear and the {t2} is {s1}. {s2}.",
        "{neg}The {t1} workshop was {s1}, nobody explained {t2} or {t3} properly. {s2}.",
        "{k} days of {t1} practice and the {t2} is still {s1}. {s2}.",
        "Swapped {t1}, {t2} and {t3}, same result. Overall it was {s1}, {s2}.",
        "Honestly the {t1} advice here was {s1}. {neg}{s2}, going back to {t2}.",
        "{s2}. The {t1} and {t2} are nothing like advertised, just {s1}.",
    ),
    ("en", True, "negative"): (
        "{Pain} again on my {t1}, {s2}. Please add a guide on {pain}.",
        "How do I fix {pain}? Tried {t1} and {t2}, still {s1}.",
        "The {pain} keeps coming back whenever I use the {t1}. {s2}.",
        "Switching to {t1} to avoid {pain} doesn't work, {s2}. Honestly {s1}.",
        (
            "I wish the admins would do something about {pain}. The {t1} threads are"
            " full of it and {s2}."
        ),
        "Please add a fix for {pain}! My {t1} and {t2} sessions are {s1} because of it.",
        "{Pain} keeps ruining my {t1}{op}, {s2}. How do I fix this?",
        (
            "{k} weeks of {t1} and {pain} still keeps happening. Really {s1}, I"
            " wish there was a setting for it."
        ),
    ),
    ("en", True, "neutral"): (
        "How do I fix {pain} when using the {t1}? Any tips on {t2}? {s2}",
        "Please add a tutorial about {pain} and {t1}. {s2}",
        "I wish there was a pinned post on {pain}, especially for {t1} and {t2}.",
        "{s1}: the usual {t1} trick for {pain} doesn't work for me. What else should I try?",
    ),
    ("en", True, "positive"): (
        "The {t1} tips here are {s1} and {s2}. Please add a thread on {pain} too.",
        "Really enjoying the {t1} group, {s2}. I wish someone could cover {pain} though.",
        "Overall the {t1} sessions have been {s1}, but how do I fix {pain}?",
    ),
}

_SLOT_NAMES = ("t1", "t2", "t3", "t4", "s1", "s2", "neg", "pain", "Pain", "op", "k")
_N_TERMS = 4


def _positional(template: str) -> str:
    """Turn named slots into positional ones so rendering is one call.

    Parameters
    ----------
    template : str
        Template with ``{name}`` slots from `_SLOT_NAMES`.

    Returns
    -------
    str
        The same template with ``{0}``, ``{1}``, ... in place of the names.
    """
    for i, name in enumerate(_SLOT_NAMES):
        template = template.replace("{" + name + "}", "{" + str(i) + "}")
    return template


def _lexicon(language: str, sentiment: str) -> tuple[str, ...]:
    """Sentiment phrases planted in messages of one language and sentiment.

    Parameters
    ----------
    language : {"zh", "en"}
        Message language.
    sentiment : {"positive", "neutral", "negative"}
        Planted sentiment.

    Returns
    -------
    tuple of str
        The phrases that fill ``{s1}`` and ``{s2}`` (empty for neutral).
    """
    if sentiment == "neutral":
        return ()
    slots = _SLOTS[(language, sentiment)]
    return slots.a + slots.b


class _Tables:
    """Flattened lookup arrays built once from the catalogue.

    Every choice in `render_bodies` becomes ``offset[group] + floor(u *
    count[group])`` into one of these flat arrays, so whole columns are chosen
    with a few numpy operations.
    """

    def __init__(self) -> None:
        n_topics = len(TOPICS)
        # Topic terms, block = lang * n_topics + topic.
        terms: list[str] = []
        t_off, t_cnt = [], []
        # Pain phrases (plain and capitalized), same blocks.
        pains: list[str] = [""]
        pains_cap: list[str] = [""]
        p_off, p_cnt = [], []
        for lang in _LANGUAGES:
            for topic in TOPICS:
                words = topic.terms_zh if lang == "zh" else topic.terms_en
                t_off.append(len(terms))
                t_cnt.append(len(words))
                terms.extend(words)
                p_off.append(len(pains))
                p_cnt.append(len(topic.pain_points))
                for pp in topic.pain_points:
                    phrase = pp.phrase_zh if lang == "zh" else pp.phrase_en
                    pains.append(phrase)
                    pains_cap.append(phrase[:1].upper() + phrase[1:])
        self.n_topics = n_topics
        self.terms = np.array(terms, dtype=object)
        self.term_off = np.array(t_off, dtype=np.int64)
        self.term_cnt = np.array(t_cnt, dtype=np.int64)
        self.pains = np.array(pains, dtype=object)
        self.pains_cap = np.array(pains_cap, dtype=object)
        self.pain_off = np.array(p_off, dtype=np.int64)
        self.pain_cnt = np.array(p_cnt, dtype=np.int64)

        # Templates, group = (lang * 2 + is_pain) * 3 + sentiment.
        fmts: list = []
        g_off, g_cnt = [], []
        # Sentiment slots and openers, group = lang * 3 + sentiment.
        a_list: list[str] = []
        b_list: list[str] = []
        neg_list: list[str] = [""]
        a_off, a_cnt, b_off, b_cnt, n_off, n_cnt = [], [], [], [], [], []
        for lang in _LANGUAGES:
            for is_pain in (False, True):
                for sent in _SENTIMENTS:
                    group = _TEMPLATES[(lang, is_pain, sent)]
                    g_off.append(len(fmts))
                    g_cnt.append(len(group))
                    fmts.extend(_positional(t).format for t in group)
            for sent in _SENTIMENTS:
                slots = _SLOTS[(lang, sent)]
                a_off.append(len(a_list))
                a_cnt.append(len(slots.a))
                a_list.extend(slots.a)
                b_off.append(len(b_list))
                b_cnt.append(len(slots.b))
                b_list.extend(slots.b)
                n_off.append(len(neg_list))
                n_cnt.append(len(slots.negation))
                neg_list.extend(slots.negation)
        self.fmts = np.array(fmts, dtype=object)
        self.tpl_off = np.array(g_off, dtype=np.int64)
        self.tpl_cnt = np.array(g_cnt, dtype=np.int64)
        self.a = np.array(a_list, dtype=object)
        self.a_off = np.array(a_off, dtype=np.int64)
        self.a_cnt = np.array(a_cnt, dtype=np.int64)
        self.b = np.array(b_list, dtype=object)
        self.b_off = np.array(b_off, dtype=np.int64)
        self.b_cnt = np.array(b_cnt, dtype=np.int64)
        self.neg = np.array(neg_list, dtype=object)
        self.neg_off = np.array(n_off, dtype=np.int64)
        self.neg_cnt = np.array(n_cnt, dtype=np.int64)
        openers = [_OPENERS[lang] for lang in _LANGUAGES]
        self.op = np.array([o for group in openers for o in group], dtype=object)
        self.op_off = np.array([0, len(openers[0])], dtype=np.int64)
        self.op_cnt = np.array([len(g) for g in openers], dtype=np.int64)
        self.numbers = np.array(_NUMBERS, dtype=object)


_TABLES = _Tables()


def _pick(u: np.ndarray, offset: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Map uniform draws to indices into a flat table.

    Parameters
    ----------
    u : numpy.ndarray
        Uniform draws in ``[0, 1)``.
    offset, count : numpy.ndarray
        Per-row start and size of the row's block in the flat table.

    Returns
    -------
    numpy.ndarray
        ``offset + floor(u * count)`` as int64.
    """
    return offset + (u * count).astype(np.int64)


def _codes(values: np.ndarray, allowed: tuple[str, ...], name: str) -> np.ndarray:
    """Encode string labels as their position in `allowed`.

    Parameters
    ----------
    values : numpy.ndarray
        Labels (any array-like of str).
    allowed : tuple of str
        Valid labels, in code order.
    name : str
        Argument name for the error message.

    Returns
    -------
    numpy.ndarray
        int64 codes.

    Raises
    ------
    ValueError
        If a label is not in `allowed`.
    """
    values = np.asarray(values)
    codes = np.full(values.shape, -1, dtype=np.int64)
    for i, label in enumerate(allowed):
        codes[values == label] = i
    if (codes < 0).any():
        bad = values[codes < 0][0]
        raise ValueError(f"{name} must be one of {allowed}, got {bad!r}")
    return codes


def _distinct_terms(
    rng: np.random.Generator, offset: np.ndarray, count: np.ndarray
) -> list[np.ndarray]:
    """Draw `_N_TERMS` distinct term indices per row.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    offset, count : numpy.ndarray
        Per-row start and size of the row's term block.

    Returns
    -------
    list of numpy.ndarray
        `_N_TERMS` arrays of flat term indices, pairwise different per row.
    """
    n = offset.shape[0]
    local = (rng.random((_N_TERMS, n)) * count).astype(np.int64)
    for j in range(1, _N_TERMS):
        clash = (local[:j] == local[j]).any(axis=0)
        while clash.any():
            rows = np.flatnonzero(clash)
            local[j, rows] = (rng.random(rows.size) * count[rows]).astype(np.int64)
            clash[rows] = (local[:j, rows] == local[j, rows]).any(axis=0)
    return [offset + local[j] for j in range(_N_TERMS)]


def render_bodies(
    topic_index: np.ndarray,
    language: np.ndarray,
    sentiment: np.ndarray,
    pain_point_index: np.ndarray,
    seed: int,
) -> list[str]:
    """Render post/comment bodies with planted topic, sentiment and pain point.

    Parameters
    ----------
    topic_index : numpy.ndarray of int, shape (n,)
        Index into `TOPICS` for each message.
    language : numpy.ndarray of str, shape (n,)
        ``"zh"`` or ``"en"``.
    sentiment : numpy.ndarray of str, shape (n,)
        ``"positive"``, ``"neutral"`` or ``"negative"``.
    pain_point_index : numpy.ndarray of int, shape (n,)
        -1 for none, else index into ``TOPICS[t].pain_points``. Such messages
        are complaints or requests quoting the pain point phrase verbatim with a
        need pattern (the generator marks them ``"negative"``; a neutral or
        positive one becomes a polite request).
    seed : int
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    list of str
        n bodies; identical for identical inputs and seed.

    Raises
    ------
    ValueError
        If the arrays differ in length or hold an unknown topic, language,
        sentiment or pain point index.

    Examples
    --------
    >>> import numpy as np
    >>> bodies = render_bodies(np.array([0]), np.array(["zh"]),
    ...                        np.array(["negative"]), np.array([0]), seed=1)
    >>> "夜景噪点" in bodies[0]
    True
    """
    topic = np.asarray(topic_index).astype(np.int64, copy=False).ravel()
    pain_idx = np.asarray(pain_point_index).astype(np.int64, copy=False).ravel()
    lang_arr = np.asarray(language).ravel()
    sent_arr = np.asarray(sentiment).ravel()
    n = topic.shape[0]
    if not (lang_arr.shape[0] == sent_arr.shape[0] == pain_idx.shape[0] == n):
        raise ValueError("all input arrays must have the same length")
    if n == 0:
        return []
    tb = _TABLES
    if topic.min() < 0 or topic.max() >= tb.n_topics:
        raise ValueError(f"topic_index must be in [0, {tb.n_topics})")
    lang = _codes(lang_arr, _LANGUAGES, "language")
    sent = _codes(sent_arr, _SENTIMENTS, "sentiment")

    block = lang * tb.n_topics + topic
    has_pain = pain_idx >= 0
    if (pain_idx < -1).any() or (pain_idx >= tb.pain_cnt[block]).any():
        raise ValueError("pain_point_index out of range for its topic")

    rng = np.random.default_rng(seed)
    u = rng.random((6, n))
    tpl = _pick(
        u[0],
        tb.tpl_off[(lang * 2 + has_pain) * 3 + sent],
        tb.tpl_cnt[(lang * 2 + has_pain) * 3 + sent],
    )
    ls = lang * 3 + sent
    a_idx = _pick(u[1], tb.a_off[ls], tb.a_cnt[ls])
    b_idx = _pick(u[2], tb.b_off[ls], tb.b_cnt[ls])
    neg_on = (u[3] < _NEGATION_RATE) & (tb.neg_cnt[ls] > 0) & ~has_pain
    neg_idx = np.where(
        neg_on,
        _pick(u[3] / _NEGATION_RATE, tb.neg_off[ls], tb.neg_cnt[ls]),
        0,
    )
    op_idx = _pick(u[4], tb.op_off[lang], tb.op_cnt[lang])
    k_idx = 2 + (u[5] * 11).astype(np.int64)
    pain_flat = np.where(has_pain, tb.pain_off[block] + pain_idx, 0)
    term_idx = _distinct_terms(rng, tb.term_off[block], tb.term_cnt[block])

    terms = tb.terms
    columns = [
        tb.fmts[tpl].tolist(),
        *(terms[idx].tolist() for idx in term_idx),
        tb.a[a_idx].tolist(),
        tb.b[b_idx].tolist(),
        tb.neg[neg_idx].tolist(),
        tb.pains[pain_flat].tolist(),
        tb.pains_cap[pain_flat].tolist(),
        tb.op[op_idx].tolist(),
        tb.numbers[k_idx].tolist(),
    ]
    return [
        f(t1, t2, t3, t4, s1, s2, ng, p, pc, op, k)
        for f, t1, t2, t3, t4, s1, s2, ng, p, pc, op, k in zip(*columns, strict=True)
    ]
